import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { replenishmentRoutes } from '../routes';
import { createFromSuggestions } from '../replenishment';

export const handler = httpHandler(replenishmentRoutes.createPurchaseOrdersFromSuggestions, ({ body }, ctx) => createFromSuggestions({ db: dbFromEnv(), ctx }, body));
