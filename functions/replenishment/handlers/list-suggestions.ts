import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listSuggestions } from '../replenishment';

export const handler = httpHandler(httpRoutes.listReplenishmentSuggestions, ({ query }, ctx) => listSuggestions({ db: dbFromEnv(), ctx }, query));
