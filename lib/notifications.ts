import { CfnParameter, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEFAULT_THROTTLE_SECONDS, SENDER_EMAIL_ENV, THROTTLE_ENV } from '../functions/notifications/model';
import { OPERATIONS_TENANT_ENV } from '../functions/operations/notify-operations';

export interface InventoryNotificationsProps {
  /** The notification consumer (functions/wiring.ts eventConsumers.notifyAlerts), built by InventoryConsumers. */
  notifier: NodejsFunction;
  /** The operational-alert consumer (eventConsumers.notifyOperations): it sends through the same channels. */
  operationsNotifier: NodejsFunction;
}

/** Stack parameter: the tenant whose admins operate this deployment (their `operations` subscriptions hear the alarms). */
export const OPERATIONS_TENANT_PARAMETER = 'OperationsTenantId';

/** Stack parameter: the SES-verified address notification email is sent from. */
export const SENDER_EMAIL_PARAMETER = 'NotificationSenderEmail';

/**
 * Notifications in AWS. The consumer itself (rule -> queue -> DLQ -> function)
 * comes from the wiring like every consumer; this adds what only it needs:
 * the sender identity (a CfnParameter, passed as env), ses:SendEmail on that
 * identity only (the address, or its domain when the domain is the verified
 * identity) and only From that address, sns:Publish for SMS; and an SNS
 * topic for operator alarms (KMS-encrypted, TLS only) that every declared
 * alarm publishes to (lib/operations.ts).
 */
export class InventoryNotifications extends Construct {
  readonly senderEmail: CfnParameter;
  readonly operationsTenant: CfnParameter;
  readonly alarmTopic: sns.Topic;
  readonly alarmTopicKey: kms.Key;

  constructor(scope: Construct, id: string, props: InventoryNotificationsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.senderEmail = new CfnParameter(stack, SENDER_EMAIL_PARAMETER, {
      type: 'String',
      description: 'Email address alert notifications are sent from; it (or its domain) must be a verified SES identity in this region',
      allowedPattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
      constraintDescription: 'must be an email address',
    });
    const sender = this.senderEmail.valueAsString;
    this.operationsTenant = new CfnParameter(stack, OPERATIONS_TENANT_PARAMETER, {
      type: 'String',
      default: '',
      description: "The tenant whose admins operate this deployment: its subscriptions with scope 'operations' hear the system's alarms (empty: only the operator topic does)",
      allowedPattern: '^([a-zA-Z0-9][a-zA-Z0-9_-]{0,63})?$',
      constraintDescription: 'must be a tenant id, or empty',
    });
    props.operationsNotifier.addEnvironment(OPERATIONS_TENANT_ENV, this.operationsTenant.valueAsString);
    const identity = (name: string): string => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: name });
    for (const fn of [props.notifier, props.operationsNotifier]) this.grantSending(fn, sender, identity);

    this.alarmTopicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the Stockroom operator alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to the encrypted topic: the key must let CloudWatch use it (for this account's alarms only).
    this.alarmTopicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'OperatorAlarms', {
      displayName: 'Stockroom operator alarms',
      masterKey: this.alarmTopicKey,
      enforceSSL: true,
    });
  }

  /** A notifier's sending: the sender address (env), ses:SendEmail on that identity and From it only, sns:Publish for SMS, the throttle window. */
  private grantSending(fn: NodejsFunction, sender: string, identity: (name: string) => string): void {
    fn.addEnvironment(SENDER_EMAIL_ENV, sender);
    fn.addEnvironment(THROTTLE_ENV, String(DEFAULT_THROTTLE_SECONDS));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SendAlertEmail',
        actions: ['ses:SendEmail'],
        resources: [identity(sender), identity(Fn.select(1, Fn.split('@', sender)))],
        conditions: { StringEquals: { 'ses:FromAddress': sender } },
      }),
    );
    // SMS goes straight to a phone number: such a Publish has no resource ARN to scope it to.
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'SendAlertSms', actions: ['sns:Publish'], resources: ['*'] }));
    if (fn.role) {
      Validations.of(fn.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Two statements need Resource "*": X-Ray (xray:PutTraceSegments/PutTelemetryRecords support no resource-level permissions) and sns:Publish for SMS, which publishes to a phone number, not a topic, so there is no ARN to name; this role has no other sns or xray action.',
      });
    }
  }
}
