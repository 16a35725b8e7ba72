/**
 * The driver checks of behaviour upstream's driver v1.6 does not have, as the tests expect
 * them (stated here from upstream's source, not taken from the kit): our driver passes them,
 * upstream's fails exactly these and still conforms.
 */
export const beyondUpstreamIds = ['current-object-version', 'fsgroup-ownership', 'mode-unset', 'refresh-annotation', 'rotation-backoff'];
