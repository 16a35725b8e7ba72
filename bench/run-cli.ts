/** Runs a benchmark CLI's `main` and exits with its code; a crash prints its stack and exits 1. */
export function runCli(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}

/** A count given on the command line (`--repeat`, `--iterations`): a whole number of at least 1. */
export const isPositiveInteger = (n: number) => Number.isInteger(n) && n > 0;
