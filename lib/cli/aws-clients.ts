import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';

/** How the CLI reaches AWS (or an AWS-compatible endpoint). */
export interface AwsClientOptions {
  /** Region; undefined lets the SDK resolve it from AWS_REGION or the profile. */
  readonly region?: string;
  /** Endpoint override for every service (`--endpoint-url`); AWS_ENDPOINT_URL works without it. */
  readonly endpointUrl?: string;
  /** Named profile from ~/.aws/config; undefined uses the default chain (AWS_PROFILE, env keys, SSO, IMDS). */
  readonly profile?: string;
  /**
   * Use path-style S3 addressing (`http://host/bucket/key`), needed by emulators and IP-address endpoints.
   * @default - true when an endpoint override is in effect
   */
  readonly forcePathStyle?: boolean;
  /**
   * Total attempts per call, including the first; the SDK's adaptive retry mode spaces them out and
   * rate-limits the client when AWS throttles.
   * @default 8
   */
  readonly maxAttempts?: number;
}

/** The SDK v3 clients the operator commands use, created lazily and shared. */
export class AwsClients {
  private cache = new Map<string, unknown>();

  constructor(public readonly options: AwsClientOptions) {}

  private common() {
    return {
      region: this.options.region,
      endpoint: this.options.endpointUrl,
      profile: this.options.profile,
      retryMode: 'adaptive',
      maxAttempts: this.options.maxAttempts ?? 8,
    };
  }

  private get<T>(key: string, create: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, create());
    return this.cache.get(key) as T;
  }

  get sagemaker(): SageMakerClient {
    return this.get('sagemaker', () => new SageMakerClient(this.common()));
  }

  /**
   * A SageMaker client that tries at most twice, for calls whose failure is expected on some endpoints
   * (an operation an emulator does not implement answers 500, which the default client would retry with
   * back-off for many seconds).
   */
  get sagemakerProbe(): SageMakerClient {
    return this.get('sagemakerProbe', () => new SageMakerClient({ ...this.common(), maxAttempts: 2 }));
  }

  get runtime(): SageMakerRuntimeClient {
    return this.get('runtime', () => new SageMakerRuntimeClient(this.common()));
  }

  get s3(): S3Client {
    return this.get(
      's3',
      () =>
        new S3Client({
          ...this.common(),
          forcePathStyle: this.options.forcePathStyle ?? this.options.endpointUrl !== undefined,
        }),
    );
  }

  get sfn(): SFNClient {
    return this.get('sfn', () => new SFNClient(this.common()));
  }

  get logs(): CloudWatchLogsClient {
    return this.get('logs', () => new CloudWatchLogsClient(this.common()));
  }

  get sts(): STSClient {
    return this.get('sts', () => new STSClient(this.common()));
  }

  /** Tries at most twice: the quota check is advisory, and emulators do not implement it. */
  get quotas(): ServiceQuotasClient {
    return this.get('quotas', () => new ServiceQuotasClient({ ...this.common(), maxAttempts: 2 }));
  }

  /** The region the clients resolved (flag, AWS_REGION, or profile). */
  async region(): Promise<string> {
    return this.sagemaker.config.region();
  }

  /** Closes the HTTP agents so the process can exit promptly. */
  destroy(): void {
    for (const client of this.cache.values()) (client as { destroy(): void }).destroy();
    this.cache.clear();
  }
}
