// Each line marked `want: <rule>` must be reported, and nothing else.
param useEasyAuth bool
param vnetEnabled bool = false

module entra 'entra.bicep' = if (useEasyAuth) {
  name: 'entra'
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = if (vnetEnabled) {
  name: 'kv-mcp'
  location: 'westus'
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
  }
}

resource site 'Microsoft.Web/sites@2023-12-01' existing = {
  name: 'func-app'
}

// The original server.bicep: a resource with the same condition is not a
// guard, because ARM evaluates its properties anyway (Azure/bicep#3990).
resource easyAuth 'Microsoft.Web/sites/config@2023-12-01' = if (useEasyAuth) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    identityProviders: {
      azureActiveDirectory: {
        registration: {
          clientId: entra.outputs.applicationId // want: conditional-read
        }
        validation: {
          allowedAudiences: [
            entra.outputs.identifierUri // want: conditional-read
          ]
        }
      }
    }
  }
}

// Nor is a module with the same condition (Azure/bicep#8022).
module consumer 'entra.bicep' = if (useEasyAuth) {
  name: 'consumer'
  params: {
    previous: entra.outputs.applicationId // want: conditional-read
  }
}

var unguarded = entra.outputs.identifierUri // want: conditional-read
var otherCondition = vnetEnabled ? entra.outputs.applicationId : '' // want: conditional-read
var wrongBranch = useEasyAuth ? '' : entra.outputs.applicationId // want: conditional-read
var negatedWrongBranch = !useEasyAuth ? entra.outputs.applicationId : '' // want: conditional-read
var vaultId = vault.id // want: conditional-read
var vaultUri = '${vault.properties.vaultUri}secrets' // want: conditional-read

output applicationId string = entra.outputs.applicationId // want: conditional-read
