/**
 * A temporary directory for one test file that is always left clean: every mount below it
 * is unmounted (deepest first) before it is removed, even when the test failed. Shared with
 * the benchmarks, so it lives in harness/temp-root.ts.
 */
export { isRoot, makeTempRoot, type TempRoot } from '../../harness/temp-root.js';
