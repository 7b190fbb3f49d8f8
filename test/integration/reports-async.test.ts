import { LAKE_DEADLINE_MS_ENV } from '../../functions/platform/lake';
import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';

/**
 * A report whose lake query outlasts the request: Athena is asynchronous, so the
 * report answers 202 with a query id and a Location, and the poll answers 202 again
 * until the query is done, then the report's own answer. Here the local Athena keeps
 * every query running 1.5 s and reports wait 100 ms.
 */

let t: TestApi;
let a: Client;
const RUNNING_MS = 1_500;
const FROM = new Date(Date.now() - 86_400_000).toISOString();
const TO = new Date(Date.now() + 86_400_000).toISOString();

beforeAll(async () => {
  process.env[LAKE_DEADLINE_MS_ENV] = '100';
  t = await startTestApi({ athenaMinRunningMs: RUNNING_MS });
  a = await t.client();
  await setupCatalog(a);
});

afterAll(async () => {
  delete process.env[LAKE_DEADLINE_MS_ENV];
  await t.close();
});

const pollUntilDone = async (client: Client, location: string) => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await client.get(location);
    if (res.status !== 202) return res;
    if (Date.now() > deadline) throw new Error('the query never finished');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

describe('long report queries', () => {
  it.each([
    ['stock-movement', `from=${FROM}&to=${TO}`],
    ['sales-trends', `from=${FROM}&to=${TO}`],
    ['valuation', `as_of=${TO}`],
  ])('%s answers 202 with a Location, 202 while it runs, then its own answer', async (report, query) => {
    const first = await a.get(`/api/reports/${report}?${query}`);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ state: 'running', query_id: expect.any(String) });
    const location = first.headers.get('location');
    expect(location).toBe(`/api/reports/queries/${first.body.query_id}`);
    const again = await a.get(String(location));
    expect(again.status).toBe(202);
    const done = await pollUntilDone(a, String(location));
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ report, query_id: first.body.query_id, data_as_of: null });
  });

  it('answers a CSV request that is still running with the 202 JSON and a Location that asks for CSV, and that poll answers CSV once done', async () => {
    const first = await a.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}&format=csv&list=rows`);
    expect(first.status).toBe(202);
    expect(first.body.state).toBe('running');
    // The Location asks for what the request asked for.
    expect(first.headers.get('location')).toBe(`/api/reports/queries/${first.body.query_id}?format=csv&list=rows`);
    const done = await pollUntilDone(a, String(first.headers.get('location')));
    expect(done.status).toBe(200);
    expect(String(done.body)).toBe('period,type,units_in,units_out,net,movements\r\n');
  });

  it("does not let another tenant poll the running query", async () => {
    const first = await a.get(`/api/reports/valuation?as_of=${TO}`);
    expect(first.status).toBe(202);
    const other = await t.client();
    expect((await other.get(`/api/reports/queries/${first.body.query_id}`)).status).toBe(404);
  });
});
