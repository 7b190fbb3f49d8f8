/** Structured JSON logs, one object per line (CloudWatch Logs Insights and `jq` read them as they are). */
type Fields = Record<string, unknown>;

const write = (level: 'info' | 'warn' | 'error', message: string, fields: Fields): void => {
  if (process.env.LOG_LEVEL === 'silent') return;
  const line = JSON.stringify({ level, time: new Date().toISOString(), message, ...fields });
  (level === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
};

export const log = {
  info: (message: string, fields: Fields = {}): void => write('info', message, fields),
  warn: (message: string, fields: Fields = {}): void => write('warn', message, fields),
  error: (message: string, fields: Fields = {}): void => write('error', message, fields),
};
