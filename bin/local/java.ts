import { spawnSync } from 'node:child_process';

/** DynamoDB Local needs Java 17+. Returns a one-line explanation when it is missing or too old. */
export const javaProblem = (): string | undefined => {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error) {
    return 'Java 17+ is needed to run DynamoDB Local and none was found: install it (Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless; macOS: brew install openjdk@17) and try again.';
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${probe.stderr}${probe.stdout}`);
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : 0;
  if (major < 17) {
    return `Java ${major || '(unknown version)'} was found but DynamoDB Local needs Java 17+: install openjdk-17-jre-headless (or newer) and try again.`;
  }
  return undefined;
};
