import * as notifications from './schemas';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const notificationRoutes = declareRoutes({
  subscribeAlerts: {
    method: 'POST', path: '/api/alerts/subscribe', entry: handlerEntry('notifications', 'subscribe'),
    permission: 'alerts:write', table: 'write',
    summary: 'Subscribe an email address, phone number (SMS) or https webhook to alerts of a SKU, a warehouse or all; a webhook gets its HMAC secret in this answer only',
    body: notifications.subscribeBody, response: notifications.createdSubscriptionResponse, status: 201, errors: [404],
  },
  listAlertSubscriptions: {
    method: 'GET', path: '/api/alerts/subscriptions', entry: handlerEntry('notifications', 'list-subscriptions'),
    permission: 'subscriptions:read', table: 'read', summary: 'Alert subscriptions of this tenant, oldest first (secrets are never shown; viewers may not list targets)',
    query: notifications.listSubscriptionsQuery, response: notifications.subscriptionListResponse,
  },
  deleteAlertSubscription: {
    method: 'DELETE', path: '/api/alerts/subscriptions/{subscription_id}', entry: handlerEntry('notifications', 'delete-subscription'),
    permission: 'alerts:write', table: 'write', summary: 'Delete a subscription; it is notified no more',
    params: notifications.subscriptionParams, response: notifications.subscriptionResponse,
  },
  listNotifications: {
    method: 'GET', path: '/api/notifications', entry: handlerEntry('notifications', 'list-notifications'),
    permission: 'alerts:read', table: 'read',
    summary: 'The local outbox: email and SMS notifications the local runtime did not send (empty in AWS, where SES and SNS deliver them)',
    query: notifications.listNotificationsQuery, response: notifications.notificationListResponse,
  },
} as const satisfies Record<string, HttpRoute>);
