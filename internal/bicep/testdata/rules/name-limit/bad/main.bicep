// Each line marked `want: <rule>` must be reported, and nothing else.
// Worst cases: environmentName is 64 characters (its @maxLength) and
// serverName 40.
@maxLength(64)
param environmentName string
@maxLength(40)
param serverName string
param anonymous bool

var token = toLower(uniqueString(environmentName))
var appName = 'func-${serverName}-${take(environmentName, 20)}'

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: 'rg-${environmentName}-${environmentName}' // want: name-limit
  location: 'westus'
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: toUpper('st${token}') // want: name-limit
  location: 'westus'
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
}

module site 'br/public:avm/res/web/site:0.15.1' = {
  name: 'deploy-${appName}' // want: name-limit
  params: {
    kind: 'functionapp'
    name: appName // want: name-limit
  }
}

// Anonymous or not, both branches are checked.
module plan 'br/public:avm/res/web/serverfarm:0.1.1' = {
  name: 'plan'
  params: {
    name: anonymous ? 'plan' : 'plan-${appName}' // want: name-limit
  }
}

module storage 'br/public:avm/res/storage/storage-account:0.8.3' = {
  name: 'storage'
  params: {
    name: 'st-${token}' // want: name-limit
    blobServices: {
      containers: [
        {
          name: replace('app-package-${serverName}', 'a', '-') // want: name-limit
        }
        {
          name: 'Packages' // want: name-limit
        }
        {
          name: 'app-package'
        }
      ]
    }
  }
}

module server 'server.bicep' = {
  name: 'server-${serverName}'
  params: {
    serverName: serverName
    environmentName: environmentName
  }
}

// Too dynamic: reported as a note, not a violation.
module dynamic 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'dynamic'
  params: {
    name: 'id-${resourceGroup().name}'
  }
}
