/** A valid `vpc` block of import mode (us-east-1, two subnets); pass overrides to make one key wrong. */
export function importedVpc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mode: 'import',
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidr: '10.0.0.0/16',
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    ...overrides,
  };
}
