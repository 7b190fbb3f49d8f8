import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { createFromSuggestions } from '../replenishment';

export const handler = httpHandler(httpRoutes.createPurchaseOrdersFromSuggestions, ({ body }, ctx) => createFromSuggestions({ db: dbFromEnv(), ctx }, body));
