// The real infra's naming with the longest server name (Options.Inputs):
// nothing here may be reported.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
param environmentName string
@allowed([
  'eastus'
  'southafricanorth'
])
param location string
param servers array

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: 'rg-${environmentName}'
  location: location
}

module serverApps 'server.bicep' = [
  for (s, i) in servers: {
    name: 'server-${s.name}'
    scope: rg
    params: {
      serverName: s.name
      resourceToken: resourceToken
    }
  }
]
