import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { replenishmentRoutes } from '../routes';
import { listSuggestions } from '../replenishment';

export const handler = httpHandler(replenishmentRoutes.listReplenishmentSuggestions, ({ query }, ctx) => listSuggestions({ db: dbFromEnv(), ctx }, query));
