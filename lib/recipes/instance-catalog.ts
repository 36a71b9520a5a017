import { GPUS, type GpuSpec } from './gpu-catalog';

/**
 * SageMaker instance types a recipe may name, with what the estimators and lint rules need: GPU model,
 * count, memory, architecture, EFA and an indicative hourly price.
 *
 * Sources and confidence (docs/facts/aws.md §3–§4):
 * - `training` / `hosting`: membership of botocore's `TrainingInstanceType` / `ProductionVariantInstanceType`
 *   enums (a test checks every entry against the installed botocore service model).
 * - GPU counts and nominal memory: the instance table in docs/facts/aws.md §3 for p4d/p4de/p5/p5en/g6e/g5;
 *   the rest are the published hardware specs (**unverified** here).
 * - `memoryGiB`: the capacity the CUDA driver reports (nvidia-smi "total"), below the nominal figure for GDDR
 *   parts; vendor-tool figures, **unverified** on SageMaker.
 * - Prices: **indicative and unverified**; each entry carries `priceSource` and `priceDate`. Override them per
 *   deployment with the app config's `prices` map (USD per instance-hour).
 */

export type AcceleratorKind = 'nvidia-gpu' | 'cpu' | 'trainium' | 'inferentia';

export interface PriceQuote {
  /** USD per instance-hour, on-demand. */
  readonly usdPerHour: number;
  readonly priceSource: string;
  /** When the figure was taken (ISO date). */
  readonly priceDate: string;
  /** False for every built-in figure: no primary source confirmed it. True only for config overrides. */
  readonly verified: boolean;
}

export interface InstanceSpec {
  readonly instanceType: string;
  readonly accelerator: AcceleratorKind;
  readonly gpu?: GpuSpec;
  /** GPUs per instance (0 for non-GPU types). */
  readonly gpuCount: number;
  readonly vcpus: number;
  /** Host RAM, GiB. */
  readonly hostMemoryGiB: number;
  /** Elastic Fabric Adapter for multi-node NCCL. */
  readonly efa: boolean;
  /** Valid SageMaker training instance type (botocore `TrainingInstanceType`). */
  readonly training: boolean;
  /** Valid SageMaker real-time endpoint instance type (botocore `ProductionVariantInstanceType`). */
  readonly hosting: boolean;
  /** Indicative SageMaker training price, us-east-1 unless the source says otherwise. */
  readonly price: PriceQuote;
  /** Anything about this entry that is not confirmed. */
  readonly note?: string;
}

const REFERENCE_PRICE =
  'docs/facts/aws.md §4: third-party code comment citing the AWS Price List API (SageMaker training, ' +
  'us-west-2; us-east-1 assumed equal)';
const EC2_DERIVED =
  'derived: EC2 on-demand us-east-1 after the June 2025 cut (docs/facts/aws.md §4) × 1.15, the ' +
  'SageMaker/EC2 ratio of ml.p5.48xlarge';
const RECALLED_G =
  'recalled SageMaker training on-demand price, us-east-1 (≈ 1.4 × EC2 on-demand); no primary source checked';
const ESTIMATE = 'estimate by analogy with a sibling type; no primary source';
const REFERENCE_DATE = '2026-09-12';
const CATALOG_DATE = '2026-11-27';

const price = (usdPerHour: number, priceSource: string, priceDate = CATALOG_DATE): PriceQuote => ({
  usdPerHour,
  priceSource,
  priceDate,
  verified: false,
});

interface GpuRow {
  readonly type: string;
  readonly gpu: GpuSpec;
  readonly count: number;
  readonly vcpus: number;
  readonly ram: number;
  readonly usd: number;
  readonly source: string;
  readonly date?: string;
  readonly efa?: boolean;
  readonly hosting?: boolean;
  readonly note?: string;
}

function gpuInstance(row: GpuRow): InstanceSpec {
  return {
    instanceType: row.type,
    accelerator: 'nvidia-gpu',
    gpu: row.gpu,
    gpuCount: row.count,
    vcpus: row.vcpus,
    hostMemoryGiB: row.ram,
    efa: row.efa ?? false,
    training: true,
    hosting: row.hosting ?? true,
    price: price(row.usd, row.source, row.date),
    note: row.note,
  };
}

/** The g4dn/g5/g6/g6e size ladder: [size, GPUs, vCPUs, RAM GiB (g4dn/g5/g6; g6e doubles RAM)]. */
const G_SIZES: readonly (readonly [string, number, number, number])[] = [
  ['xlarge', 1, 4, 16],
  ['2xlarge', 1, 8, 32],
  ['4xlarge', 1, 16, 64],
  ['8xlarge', 1, 32, 128],
  ['16xlarge', 1, 64, 256],
  ['12xlarge', 4, 48, 192],
  ['24xlarge', 4, 96, 384],
  ['48xlarge', 8, 192, 768],
];

const G5_PRICES: Record<string, number> = {
  xlarge: 1.408,
  '2xlarge': 1.515,
  '4xlarge': 2.03,
  '8xlarge': 3.06,
  '16xlarge': 5.12,
  '12xlarge': 7.09,
  '24xlarge': 10.18,
  '48xlarge': 20.36,
};
const G6_PRICES: Record<string, number> = {
  xlarge: 1.127,
  '2xlarge': 1.369,
  '4xlarge': 1.852,
  '8xlarge': 2.82,
  '16xlarge': 4.756,
  '12xlarge': 6.442,
  '24xlarge': 9.345,
  '48xlarge': 18.69,
};
const G6E_PRICES: Record<string, number> = {
  xlarge: 2.605,
  '2xlarge': 3.139,
  '4xlarge': 4.206,
  '8xlarge': 6.34,
  '16xlarge': 10.608,
  '12xlarge': 14.69,
  '24xlarge': 21.092,
  '48xlarge': 42.184,
};
const G4DN_PRICES: Record<string, number> = {
  xlarge: 0.736,
  '2xlarge': 0.94,
  '4xlarge': 1.505,
  '8xlarge': 2.72,
  '16xlarge': 5.44,
  '12xlarge': 4.89,
};

function gFamily(family: string, gpu: GpuSpec, prices: Record<string, number>, ramFactor = 1): InstanceSpec[] {
  return G_SIZES.filter(([size]) => prices[size] !== undefined).map(([size, count, vcpus, ram]) =>
    gpuInstance({
      type: `ml.${family}.${size}`,
      gpu,
      count,
      vcpus,
      ram: ram * ramFactor,
      usd: prices[size],
      source: RECALLED_G,
    }),
  );
}

const GPU_INSTANCES: InstanceSpec[] = [
  ...gFamily('g4dn', GPUS.T4, G4DN_PRICES),
  ...gFamily('g5', GPUS.A10G, G5_PRICES),
  ...gFamily('g6', GPUS.L4, G6_PRICES),
  ...gFamily('g6e', GPUS.L40S, G6E_PRICES, 2),
  gpuInstance({
    type: 'ml.p3.2xlarge',
    gpu: GPUS.V100_16,
    count: 1,
    vcpus: 8,
    ram: 61,
    usd: 3.825,
    source: RECALLED_G,
  }),
  gpuInstance({
    type: 'ml.p3.8xlarge',
    gpu: GPUS.V100_16,
    count: 4,
    vcpus: 32,
    ram: 244,
    usd: 14.688,
    source: RECALLED_G,
  }),
  gpuInstance({
    type: 'ml.p3.16xlarge',
    gpu: GPUS.V100_16,
    count: 8,
    vcpus: 64,
    ram: 488,
    usd: 28.152,
    source: RECALLED_G,
  }),
  gpuInstance({
    type: 'ml.p3dn.24xlarge',
    gpu: GPUS.V100_32,
    count: 8,
    vcpus: 96,
    ram: 768,
    usd: 35.894,
    source: RECALLED_G,
    efa: true,
    hosting: false,
  }),
  gpuInstance({
    type: 'ml.p4d.24xlarge',
    gpu: GPUS.A100_40,
    count: 8,
    vcpus: 96,
    ram: 1152,
    usd: 25.25,
    source: REFERENCE_PRICE,
    date: REFERENCE_DATE,
    efa: true,
  }),
  gpuInstance({
    type: 'ml.p4de.24xlarge',
    gpu: GPUS.A100_80,
    count: 8,
    vcpus: 96,
    ram: 1152,
    usd: 31.57,
    source: `${EC2_DERIVED} ($27.45)`,
    efa: true,
  }),
  gpuInstance({
    type: 'ml.p5.4xlarge',
    gpu: GPUS.H100,
    count: 1,
    vcpus: 16,
    ram: 256,
    usd: 7.91,
    source: `${ESTIMATE}: 1/8 of ml.p5.48xlarge`,
    note: 'price and EFA support unverified',
  }),
  gpuInstance({
    type: 'ml.p5.48xlarge',
    gpu: GPUS.H100,
    count: 8,
    vcpus: 192,
    ram: 2048,
    usd: 63.3,
    source: REFERENCE_PRICE,
    date: REFERENCE_DATE,
    efa: true,
  }),
  gpuInstance({
    type: 'ml.p5e.48xlarge',
    gpu: GPUS.H200,
    count: 8,
    vcpus: 192,
    ram: 2048,
    usd: 82.29,
    source: `${ESTIMATE}: 1.3 × ml.p5.48xlarge`,
    efa: true,
    note: 'price unverified',
  }),
  gpuInstance({
    type: 'ml.p5en.48xlarge',
    gpu: GPUS.H200,
    count: 8,
    vcpus: 192,
    ram: 2048,
    usd: 82.29,
    source: `${ESTIMATE}: 1.3 × ml.p5.48xlarge`,
    efa: true,
    note: 'price unverified',
  }),
  gpuInstance({
    type: 'ml.p6-b200.48xlarge',
    gpu: GPUS.B200,
    count: 8,
    vcpus: 192,
    ram: 2048,
    usd: 131.0,
    source: `${ESTIMATE}: EC2 p6-b200.48xlarge (≈ $113.9, recalled) × 1.15`,
    efa: true,
    note: 'GPU memory, host RAM and price unverified (not in the reference tables)',
  }),
];

const OTHER_INSTANCES: InstanceSpec[] = [
  ['ml.m5.xlarge', 4, 16, 0.23],
  ['ml.m5.4xlarge', 16, 64, 0.922],
  ['ml.c5.2xlarge', 8, 16, 0.408],
].map(([instanceType, vcpus, ram, usd]) => ({
  instanceType: instanceType as string,
  accelerator: 'cpu' as const,
  gpuCount: 0,
  vcpus: vcpus as number,
  hostMemoryGiB: ram as number,
  efa: false,
  training: true,
  hosting: true,
  price: price(usd as number, RECALLED_G),
}));

OTHER_INSTANCES.push(
  {
    instanceType: 'ml.trn1.32xlarge',
    accelerator: 'trainium',
    gpuCount: 0,
    vcpus: 128,
    hostMemoryGiB: 512,
    efa: true,
    training: true,
    hosting: true,
    price: price(24.72, RECALLED_G),
  },
  {
    instanceType: 'ml.inf2.xlarge',
    accelerator: 'inferentia',
    gpuCount: 0,
    vcpus: 4,
    hostMemoryGiB: 16,
    efa: false,
    training: false,
    hosting: true,
    price: price(0.99, RECALLED_G),
  },
);

/** Every instance type the catalog knows, keyed by SageMaker name. */
export const INSTANCE_CATALOG: Readonly<Record<string, InstanceSpec>> = Object.fromEntries(
  [...GPU_INSTANCES, ...OTHER_INSTANCES].map((i) => [i.instanceType, i]),
);

/** The catalog entry for an instance type, or undefined. */
export function findInstance(instanceType: string): InstanceSpec | undefined {
  return INSTANCE_CATALOG[instanceType];
}

/** True when SageMaker can train on this type and it has NVIDIA GPUs (what the training image needs). */
export function isGpuTrainingInstance(instance: InstanceSpec): boolean {
  return instance.training && instance.accelerator === 'nvidia-gpu' && instance.gpuCount > 0;
}

/** True when SageMaker can host an endpoint on this type and it has NVIDIA GPUs (what vLLM needs). */
export function isGpuHostingInstance(instance: InstanceSpec): boolean {
  return instance.hosting && instance.accelerator === 'nvidia-gpu' && instance.gpuCount > 0;
}

/**
 * The hourly price of an instance: the app config's `prices` override when present (marked verified, as the
 * operator vouches for it), else the catalog's indicative figure.
 */
export function instancePrice(instance: InstanceSpec, overrides: Readonly<Record<string, number>> = {}): PriceQuote {
  const override = overrides[instance.instanceType];
  if (override !== undefined) {
    return { usdPerHour: override, priceSource: 'app config `prices` override', priceDate: 'config', verified: true };
  }
  return instance.price;
}

/** The catalog's instance types that pass `accept`, cheapest first (by the given prices), for suggestions. */
export function instancesByPrice(
  accept: (instance: InstanceSpec) => boolean,
  overrides: Readonly<Record<string, number>> = {},
): InstanceSpec[] {
  return Object.values(INSTANCE_CATALOG)
    .filter(accept)
    .sort(
      (a, b) =>
        instancePrice(a, overrides).usdPerHour - instancePrice(b, overrides).usdPerHour ||
        a.instanceType.localeCompare(b.instanceType),
    );
}

/** GPU training instance types, cheapest first (by the given prices), for suggestions. */
export function gpuTrainingInstancesByPrice(overrides: Readonly<Record<string, number>> = {}): InstanceSpec[] {
  return instancesByPrice(isGpuTrainingInstance, overrides);
}

/**
 * Instance families with local NVMe instance storage. SageMaker encrypts those volumes in hardware and
 * rejects a `VolumeKmsKeyId` for them ("You can't request a VolumeKmsKeyId when using an instance type
 * with local storage"), so the key is set only for the others.
 * @see https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html
 */
const LOCAL_STORAGE_FAMILIES =
  /^ml\.(p3dn|p4d|p4de|p5|p5e|p5en|p6-b200|p6-b300|p6e-gb200|g4dn|g4ad|g5|g6|g6e|gr6|trn1|trn1n|trn2|c5d|m5d|r5d|c6id|m6id|r6id)\./;

/** Whether SageMaker rejects `VolumeKmsKeyId` for this instance type. */
export function hasLocalInstanceStorage(instanceType: string): boolean {
  return LOCAL_STORAGE_FAMILIES.test(instanceType);
}
