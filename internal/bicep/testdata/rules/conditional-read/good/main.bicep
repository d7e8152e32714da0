// Reads of conditional modules and resources behind a ternary on the same
// condition: nothing here may be reported.
param useEasyAuth bool
param anonymousServerAuth string = ''
param vnetEnabled bool = false

module entra 'entra.bicep' = if (useEasyAuth) {
  name: 'entra'
}

module anon 'entra.bicep' = if (toLower(anonymousServerAuth) != 'true') {
  name: 'anon'
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = if (!vnetEnabled) {
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

var applicationId = useEasyAuth ? entra.outputs.applicationId : ''
var negated = !useEasyAuth ? '' : entra.outputs.identifierUri
var parenthesized = (useEasyAuth) ? entra.outputs.identifierUri : ''
var nested = useEasyAuth
  ? {
      uri: '${entra.outputs.identifierUri}/user_impersonation'
      ids: union([entra.outputs.applicationId], [])
    }
  : {}
// The same condition written with other spacing.
var spaced = toLower( anonymousServerAuth )!='true' ? anon.outputs.applicationId : ''
// The module's condition is negated; the ternary tests the opposite.
var vaultName = vnetEnabled ? '' : vault.name
var vaultUri = !vnetEnabled ? vault.properties.vaultUri : ''

// A loop variable that shadows the module's name.
var shadow = [for entra in [{ name: 'a' }]: entra.name]

module later 'entra.bicep' = {
  name: 'later'
  dependsOn: [
    entra
  ]
  params: {
    previous: applicationId
  }
}

output identifierUri string = useEasyAuth ? entra.outputs.identifierUri : ''
