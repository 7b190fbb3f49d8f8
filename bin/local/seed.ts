import { dbFromEnv } from '../../functions/platform/db';
import type { RequestContext } from '../../functions/platform/context';
import { allWarehouses, createProduct, createSku, createWarehouse } from '../../functions/inventory/catalog';
import { bulkUpdate, transferStock } from '../../functions/inventory/stock';
import type { StockChange } from '../../functions/inventory/schemas';
import { registerUser } from '../../functions/identity/users';

/** The demo tenant's admin: a real user of the directory (issue 12), whose token npm start prints. */
export const DEMO_ADMIN = { userId: 'demo-admin', email: 'admin@demo.example', name: 'Demo Admin', role: 'admin' } as const;

/**
 * Makes the demo admin a user of the directory (again: enabled, an admin), so the dev token npm start prints is
 * always served; with or without --seed, and also after someone demoted or disabled them in a kept data dir.
 */
export const ensureDemoAdmin = (tenantId: string): Promise<unknown> => registerUser(dbFromEnv(), tenantId, DEMO_ADMIN);

/** A small deterministic generator, so every seeded demo looks the same. */
const random = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

interface SeedWarehouse {
  warehouse_id: string;
  name: string;
  latitude: number;
  longitude: number;
  priority: number;
  country: string;
  city: string;
}

/** A list with a first element, so `list[0]` is typed as present. */
type NonEmpty<T> = [T, ...T[]];

/** The element at `index`, wrapping around the list. */
const cycle = <T>(list: Readonly<NonEmpty<T>>, index: number): T => list[index % list.length] ?? list[0];

const WAREHOUSES: NonEmpty<SeedWarehouse> = [
  { warehouse_id: 'wh-newark', name: 'Newark DC', latitude: 40.7357, longitude: -74.1724, priority: 10, country: 'US', city: 'Newark' },
  { warehouse_id: 'wh-dallas', name: 'Dallas DC', latitude: 32.7767, longitude: -96.797, priority: 20, country: 'US', city: 'Dallas' },
  { warehouse_id: 'wh-reno', name: 'Reno DC', latitude: 39.5296, longitude: -119.8138, priority: 30, country: 'US', city: 'Reno' },
  { warehouse_id: 'wh-toronto', name: 'Toronto Store', latitude: 43.6532, longitude: -79.3832, priority: 50, country: 'CA', city: 'Toronto' },
];

const CATEGORIES: NonEmpty<string> = ['apparel', 'footwear', 'outdoor', 'kitchen', 'electronics', 'toys'];
const SIZES = ['XS', 'S', 'M', 'L', 'XL'];

/**
 * The demo tenant: 4 warehouses, 60 products with 5 SKUs each (300 SKUs),
 * opening stock, then some weeks of sales, restocks, adjustments and
 * transfers, all through the same domain functions the API uses. Running it
 * again on seeded data changes nothing.
 */
export const seedDemoTenant = async (tenantId: string): Promise<{ skus: number; movements: number }> => {
  const db = dbFromEnv();
  const ctx: RequestContext = {
    caller: { kind: 'user', tenantId, role: 'admin', subject: 'seed' },
    requestId: 'seed',
    now: () => new Date(),
  };
  const deps = { db, ctx };
  if ((await allWarehouses(deps)).some((w) => w.warehouse_id === WAREHOUSES[0].warehouse_id)) return { skus: 0, movements: 0 };
  const rand = random(42);
  for (const w of WAREHOUSES) {
    await createWarehouse(deps, {
      warehouse_id: w.warehouse_id,
      name: w.name,
      latitude: w.latitude,
      longitude: w.longitude,
      priority: w.priority,
      active: true,
      address: { line1: '1 Logistics Way', city: w.city, country: w.country },
    });
  }
  const skuIds: string[] = [];
  const products = Array.from({ length: 60 }, (_, i) => i + 1);
  // Products are independent: create them a few at a time (DynamoDB Local has two cores to share).
  for (let i = 0; i < products.length; i += 6) {
    await Promise.all(
      products.slice(i, i + 6).map(async (p) => {
        const category = cycle(CATEGORIES, p);
        const productId = `prod-${String(p).padStart(3, '0')}`;
        await createProduct(deps, { product_id: productId, name: `${category} item ${p}`, category, brand: 'Acme' });
        for (const [s, size] of SIZES.entries()) {
          const skuId = `${productId}-${size.toLowerCase()}`;
          const cost = 5 + ((p * 37 + s * 11) % 9000) / 100;
          await createSku(deps, {
            sku_id: skuId,
            product_id: productId,
            name: `${category} item ${p} (${size})`,
            barcode: `0${String(100_000_000_000 + p * 10 + s)}`,
            unit_cost: cost.toFixed(2),
            price: (cost * 2.2).toFixed(2),
            currency: 'USD',
            attributes: { size },
          });
        }
      }),
    );
  }
  for (const p of products) for (const size of SIZES) skuIds.push(`prod-${String(p).padStart(3, '0')}-${size.toLowerCase()}`);
  const updates: StockChange[] = [];
  for (const skuId of skuIds) {
    for (const w of WAREHOUSES) {
      if (rand() < 0.25) continue;
      updates.push({ sku_id: skuId, warehouse_id: w.warehouse_id, transaction_type: 'restock', quantity: 20 + Math.floor(rand() * 200), reference: 'opening-balance' });
      const sales = Math.floor(rand() * 4);
      for (let s = 0; s < sales; s++) {
        updates.push({ sku_id: skuId, warehouse_id: w.warehouse_id, transaction_type: 'sale', quantity: 1 + Math.floor(rand() * 5), reference: `web-${Math.floor(rand() * 1e6)}` });
      }
      if (rand() < 0.05) {
        updates.push({ sku_id: skuId, warehouse_id: w.warehouse_id, transaction_type: 'adjustment', quantity: -1, reason: 'damaged', note: 'crushed in receiving' });
      }
    }
  }
  let movements = 0;
  for (let i = 0; i < updates.length; i += 1000) {
    const result = await bulkUpdate(deps, { atomic: false, updates: updates.slice(i, i + 1000) });
    movements += result.applied;
  }
  for (const skuId of skuIds.slice(0, 20)) {
    try {
      await transferStock(deps, { sku_id: skuId, from_warehouse_id: 'wh-newark', to_warehouse_id: 'wh-toronto', quantity: 5, reference: 'rebalance' });
      movements += 2;
    } catch {
      // A SKU not stocked in Newark has nothing to move; the demo simply skips it.
    }
  }
  return { skus: skuIds.length, movements };
};
