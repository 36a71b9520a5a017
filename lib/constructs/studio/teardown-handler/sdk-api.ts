import {
  type AppType,
  DeleteAppCommand,
  DeleteSpaceCommand,
  ListAppsCommand,
  ListSpacesCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { StudioApi } from './teardown';

/** The AWS SDK v3 SageMaker client behind the {@link StudioApi} the teardown uses. */
export function sdkStudioApi(client: SageMakerClient): StudioApi {
  return {
    async listApps(domainId, nextToken) {
      const out = await client.send(
        new ListAppsCommand({ DomainIdEquals: domainId, NextToken: nextToken, MaxResults: 100 }),
      );
      return {
        nextToken: out.NextToken,
        items: (out.Apps ?? []).map((a) => ({
          appType: a.AppType ?? '',
          appName: a.AppName ?? '',
          status: a.Status ?? '',
          userProfileName: a.UserProfileName,
          spaceName: a.SpaceName,
        })),
      };
    },
    async deleteApp(domainId, app) {
      await client.send(
        new DeleteAppCommand({
          DomainId: domainId,
          AppType: app.appType as AppType,
          AppName: app.appName,
          // an app belongs either to a space or (legacy Studio Classic) to a user profile.
          ...(app.spaceName ? { SpaceName: app.spaceName } : { UserProfileName: app.userProfileName }),
        }),
      );
    },
    async listSpaces(domainId, nextToken) {
      const out = await client.send(
        new ListSpacesCommand({ DomainIdEquals: domainId, NextToken: nextToken, MaxResults: 100 }),
      );
      return {
        nextToken: out.NextToken,
        items: (out.Spaces ?? []).map((s) => ({ spaceName: s.SpaceName ?? '', status: s.Status ?? '' })),
      };
    },
    async deleteSpace(domainId, spaceName) {
      await client.send(new DeleteSpaceCommand({ DomainId: domainId, SpaceName: spaceName }));
    },
  };
}
