/**
 * For the tests that prove no credential leaks: every line written to stdout or stderr while the
 * file's tests run (LOG_LEVEL info, so the request log is there too) goes to `logged` instead of
 * the terminal, and `answered` is where the file keeps the answers it received. Restored after all.
 */
export const captureOutput = (): { answered: string[]; logged: string[] } => {
  const captured = { answered: [] as string[], logged: [] as string[] };
  let restoreLogLevel: string | undefined;
  beforeAll(() => {
    restoreLogLevel = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'info';
    for (const stream of [process.stdout, process.stderr]) {
      jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
        captured.logged.push(String(chunk));
        return true;
      });
    }
  });
  afterAll(() => {
    jest.restoreAllMocks();
    if (restoreLogLevel === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = restoreLogLevel;
  });
  return captured;
};
