import { onMetricLine, publishMetrics } from '../../functions/platform/metrics';

/** Where the EMF lines go (functions/platform/metrics.ts): printed in Lambda, heard locally, printed locally only at debug. */
describe('metric lines', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });
  const printedWhile = (work: () => void): string[] => {
    const printed: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      printed.push(String(chunk));
      return true;
    });
    work();
    jest.restoreAllMocks();
    return printed.filter((line) => line.includes('"_aws"'));
  };

  test('in Lambda every line is printed: that is how CloudWatch reads it', () => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    process.env.LOG_LEVEL = 'INFO';
    const lines = printedWhile(() => publishMetrics({ StockUpdates: 1 }));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ StockUpdates: 1, service: 'stockroom', _aws: { CloudWatchMetrics: [{ Namespace: 'Stockroom' }] } });
  });

  test('locally the evaluator hears every line, and the terminal sees them only at LOG_LEVEL=debug', () => {
    delete process.env.AWS_EXECUTION_ENV;
    const heard: unknown[] = [];
    const stop = onMetricLine((line) => void heard.push(line));
    process.env.LOG_LEVEL = 'info';
    expect(printedWhile(() => publishMetrics({ Allocations: 1 }))).toEqual([]);
    process.env.LOG_LEVEL = 'debug';
    expect(printedWhile(() => publishMetrics({ Allocations: 1 }))).toHaveLength(1);
    stop();
    expect(heard).toHaveLength(2);
  });
});
