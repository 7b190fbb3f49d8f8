import { CfnParameter, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEFAULT_THROTTLE_SECONDS, SENDER_EMAIL_ENV, THROTTLE_ENV } from '../functions/notifications/model';

export interface InventoryNotificationsProps {
  /** The notification consumer (functions/wiring.ts eventConsumers.notifyAlerts), built by InventoryConsumers. */
  notifier: NodejsFunction;
}

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
  readonly alarmTopic: sns.Topic;
  readonly alarmTopicKey: kms.Key;

  constructor(scope: Construct, id: string, props: InventoryNotificationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const fn = props.notifier;

    this.senderEmail = new CfnParameter(stack, SENDER_EMAIL_PARAMETER, {
      type: 'String',
      description: 'Email address alert notifications are sent from; it (or its domain) must be a verified SES identity in this region',
      allowedPattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
      constraintDescription: 'must be an email address',
    });
    const sender = this.senderEmail.valueAsString;
    fn.addEnvironment(SENDER_EMAIL_ENV, sender);
    fn.addEnvironment(THROTTLE_ENV, String(DEFAULT_THROTTLE_SECONDS));

    const identity = (name: string): string => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: name });
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
}
