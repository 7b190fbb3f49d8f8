import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_BUS_ENV } from '../wiring';
import { putEventsPublisher, type Publisher } from './publisher';

/** The bus named by EVENT_BUS_NAME (set by the CDK stack on the functions that publish). */
export const eventBusName = (): string => {
  const name = process.env[EVENT_BUS_ENV];
  if (!name) throw new Error(`${EVENT_BUS_ENV} is not set`);
  return name;
};

/** Publishes to EventBridge with PutEvents, checking FailedEntryCount entry by entry. */
export const eventBridgePublisher = (client: EventBridgeClient, busName: string): Publisher =>
  putEventsPublisher(async (entries) => client.send(new PutEventsCommand({ Entries: entries })), busName);
