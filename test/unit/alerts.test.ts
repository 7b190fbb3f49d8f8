import { daysOfCover, decide, isBreached, isRecovered, severityOf, urgencyKey } from '../../functions/alerts/rules';

const level = (available: number, over: Partial<{ incoming: number; reorder_point: number; safety_stock: number }> = {}) => ({
  available,
  incoming: 0,
  reorder_point: 10,
  safety_stock: 4,
  ...over,
});

describe('severity', () => {
  test('critical at or below safety stock or zero, high at or below halfway, else normal', () => {
    expect(severityOf(level(0, { safety_stock: 0 }))).toBe('critical');
    expect(severityOf(level(4))).toBe('critical');
    expect(severityOf(level(5))).toBe('high');
    expect(severityOf(level(7))).toBe('high');
    expect(severityOf(level(8))).toBe('normal');
    expect(severityOf(level(9))).toBe('normal');
  });
});

describe('breach and recovery', () => {
  test('breached below the reorder point only when one is set', () => {
    expect(isBreached(level(9))).toBe(true);
    expect(isBreached(level(10))).toBe(false);
    expect(isBreached(level(0, { reorder_point: 0, safety_stock: 0 }))).toBe(false);
  });
  test('recovered by available + incoming by default, or by available alone', () => {
    expect(isRecovered(level(5, { incoming: 5 }))).toBe(true);
    expect(isRecovered(level(5, { incoming: 4 }))).toBe(false);
    expect(isRecovered(level(5, { incoming: 5 }), 'available')).toBe(false);
  });
});

describe('days of cover', () => {
  test('available over average daily sales of 14 days, null without sales', () => {
    expect(daysOfCover(10, 0)).toBeNull();
    expect(daysOfCover(10, 14)).toBe(10);
    expect(daysOfCover(7, 28)).toBe(3.5);
    expect(daysOfCover(0, 28)).toBe(0);
  });
  test('the sort key orders severity, then cover ascending, nulls last', () => {
    const keys = [
      urgencyKey('normal', 1, 'a'),
      urgencyKey('critical', null, 'b'),
      urgencyKey('critical', 12.5, 'c'),
      urgencyKey('high', 3, 'd'),
      urgencyKey('critical', 2, 'e'),
    ].sort();
    expect(keys.map((k) => k.split('#')[2])).toEqual(['e', 'c', 'b', 'd', 'a']);
  });
});

describe('version ordering', () => {
  const at = (version: number, available: number, incoming = 0) => ({ version, ...level(available, { incoming }) });
  test('duplicates and older versions are ignored', () => {
    expect(decide({ last_version: 5, alert_status: 'open' }, at(5, 1))).toBe('ignore');
    expect(decide({ last_version: 5 }, at(3, 1))).toBe('ignore');
  });
  test('opens once, then updates, then resolves', () => {
    expect(decide(undefined, at(1, 9))).toBe('open');
    expect(decide({ last_version: 1, alert_status: 'open' }, at(2, 3))).toBe('update');
    expect(decide({ last_version: 2, alert_status: 'acknowledged' }, at(3, 2))).toBe('update');
    expect(decide({ last_version: 3, alert_status: 'acknowledged' }, at(4, 2, 8))).toBe('resolve');
    expect(decide({ last_version: 4, alert_status: 'resolved' }, at(5, 20))).toBe('record');
  });
  test('no alert opens when incoming stock already covers the gap', () => {
    expect(decide(undefined, at(1, 5, 5))).toBe('record');
  });
});
