/**
 * Kubernetes object names, as the API server validates them: checked before a name taken
 * from a request goes into an API path, so that `.`, `..`, `/` or `%2F` can never turn a
 * GET of one object into a request for the namespace or the collection.
 */

/** RFC 1123 label: namespaces. */
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: most object names (SecretProviderClass, Pod). */
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const isDnsLabel = (name: string) => name.length <= 63 && dnsLabel.test(name);
export const isDnsSubdomain = (name: string) => name.length <= 253 && dnsSubdomain.test(name);

export const dnsLabelRule = "a lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit";
export const dnsSubdomainRule = "a lowercase RFC 1123 subdomain: at most 253 characters of a-z, 0-9, '-' and '.', each dot-separated part starting and ending with a letter or digit";
