import { systemContext, type RequestContext, type UserCaller } from '../../functions/platform/context';
import { AppError } from '../../functions/platform/errors';
import { assertInScope, assertUnscoped, inScope, mayTouchWarehouse, scopeFilter } from '../../functions/platform/warehouse-scope';

const user = (warehouseIds?: readonly string[]): RequestContext => {
  const caller: UserCaller = { kind: 'user', tenantId: 't-1', subject: 'u-1', role: 'clerk', ...(warehouseIds ? { warehouseIds } : {}) };
  return { caller, requestId: 'r-1', now: () => new Date() };
};
const system = systemContext({ tenantId: 't-1', actor: 'system:test', requestId: 'r-1' });

const refusal = (act: () => void): AppError => {
  try {
    act();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('warehouse scope', () => {
  test('the system and an unscoped user reach every warehouse', () => {
    for (const ctx of [system, user()]) {
      expect(() => assertInScope(ctx, ['wh-a', 'wh-z'])).not.toThrow();
      expect(() => assertUnscoped(ctx, 'anything')).not.toThrow();
      expect(mayTouchWarehouse(ctx.caller, 'wh-z')).toBe(true);
      expect(scopeFilter(ctx)).toBeUndefined();
    }
  });

  test('a scoped user is refused with 403 naming each outside warehouse once, sorted', () => {
    const error = refusal(() => assertInScope(user(['wh-a']), ['wh-z', 'wh-a', 'wh-m', 'wh-z'], 'a transfer'));
    expect(error).toMatchObject({ code: 'FORBIDDEN', status: 403, details: { warehouse_ids: ['wh-m', 'wh-z'] } });
    expect(error.message).toBe("this request (a transfer) touches warehouses 'wh-m', 'wh-z', outside the warehouses you may work in");
    expect(() => assertInScope(user(['wh-a', 'wh-b']), ['wh-b', 'wh-a'])).not.toThrow();
  });

  test('what needs every warehouse is refused to a scoped user, naming their own', () => {
    const error = refusal(() => assertUnscoped(user(['wh-b', 'wh-a']), 'creating a warehouse'));
    expect(error).toMatchObject({ code: 'FORBIDDEN', details: { warehouse_ids: ['wh-b', 'wh-a'] } });
    expect(error.message).toContain('creating a warehouse');
  });

  test("lists keep the scope's rows, and an empty scope keeps none", () => {
    const rows = [{ warehouse_id: 'wh-a' }, { warehouse_id: 'wh-b' }];
    expect(rows.filter(inScope(user(['wh-b'])))).toEqual([{ warehouse_id: 'wh-b' }]);
    expect(scopeFilter(user(['wh-b', 'wh-a']))).toEqual({ op: 'in', attribute: 'warehouse_id', values: ['wh-a', 'wh-b'] });
    // DynamoDB has no empty IN (): the filter names an id no item can have.
    expect(scopeFilter(user([]))).toEqual({ op: 'in', attribute: 'warehouse_id', values: [''] });
    expect(rows.filter(inScope(user([])))).toEqual([]);
    expect(() => assertInScope(user([]), ['wh-a'])).toThrow(AppError);
  });
});
