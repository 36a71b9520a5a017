import { Match, Template } from 'aws-cdk-lib/assertions';
import { expectNoNagFindings } from '../support/nag';
import { snapshotOf } from '../support/template';
import { platformApp } from './fixtures';

describe('DataStack', () => {
  // GIVEN the app synthesized from the default config (each test: THEN ...)
  const { stacks } = platformApp();
  const template = Template.fromStack(stacks.data);

  test('is termination-protected and named from config', () => {
    // GIVEN the default config / WHEN synthesized / THEN
    expect(stacks.data.terminationProtection).toBe(true);
    expect(stacks.data.stackName).toBe('gptoss-dev-data');
  });

  test('has one customer-managed key with rotation, retained', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/gptoss-dev' });
  });

  test('lets CloudWatch Logs of this account use the key, for log groups only', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudWatchLogsOfThisAccount',
            Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
            Condition: {
              StringLike: {
                'kms:EncryptionContext:aws:logs:arn': {
                  'Fn::Join': Match.arrayWith([Match.arrayWith([':log-group:*'])]),
                },
              },
            },
          }),
        ]),
      },
    });
  });

  test('has three buckets, all versioned, public access blocked, owner-enforced and retained', () => {
    template.resourceCountIs('AWS::S3::Bucket', 3);
    const buckets = template.findResources('AWS::S3::Bucket');
    for (const [id, bucket] of Object.entries(buckets)) {
      expect({ id, deletion: bucket.DeletionPolicy }).toEqual({ id, deletion: 'Retain' });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(
        expect.arrayContaining([
          {
            Id: 'abort-incomplete-multipart-uploads',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            Status: 'Enabled',
          },
        ]),
      );
    }
  });

  test('encrypts datasets and artifacts with the key (bucket key on) and logs them to the access log bucket', () => {
    for (const [id, prefix] of [
      ['Datasets0030EE04', 'datasets/'],
      ['Artifacts82DD59A1', 'artifacts/'],
    ]) {
      const bucket = template.findResources('AWS::S3::Bucket')[id];
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              KMSMasterKeyID: { 'Fn::GetAtt': ['Key961B73FD', 'Arn'] },
              SSEAlgorithm: 'aws:kms',
            },
          },
        ],
      });
      expect(bucket.Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: 'AccessLogs8B620ECA' },
        LogFilePrefix: prefix,
      });
    }
  });

  test('uses SSE-S3 on the access log bucket (the only encryption S3 log delivery supports) and expires logs', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([{ Id: 'expire-access-logs', ExpirationInDays: 365, Status: 'Enabled' }]),
      },
    });
  });

  test('expires old checkpoints under checkpoints/ in the artifacts bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          {
            Id: 'expire-old-checkpoints',
            Prefix: 'checkpoints/',
            ExpirationInDays: 30,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            Status: 'Enabled',
          },
        ]),
      },
    });
  });

  test('denies non-TLS access on every bucket', () => {
    const policies = template.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(3);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
    }
  });

  test('has zero unacknowledged cdk-nag findings across the four packs', () => {
    expectNoNagFindings(stacks.data);
  });

  test('matches the snapshot', () => {
    expect(snapshotOf(stacks.data)).toMatchSnapshot();
  });
});
