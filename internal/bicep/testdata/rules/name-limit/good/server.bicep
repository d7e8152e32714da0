param serverName string
param resourceToken string

var appName = 'func-${serverName}-${resourceToken}'
var storageAccountName = 'st${uniqueString(resourceToken, serverName)}'

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'identity-${serverName}'
  params: {
    name: 'id-${serverName}-${resourceToken}'
  }
}

module storage 'br/public:avm/res/storage/storage-account:0.8.3' = {
  name: 'storage-${serverName}'
  params: {
    name: storageAccountName
    blobServices: {
      containers: [
        {
          name: 'app-package'
        }
      ]
    }
  }
}

module endpoint 'br/public:avm/res/network/private-endpoint:0.11.0' = {
  name: 'storage-pe-${serverName}'
  params: {
    name: 'pe-blob-${storage.outputs.name}'
  }
}

module plan 'br/public:avm/res/web/serverfarm:0.1.1' = {
  name: 'plan-${serverName}'
  params: {
    name: 'plan-${serverName}-${resourceToken}'
  }
}

module app 'br/public:avm/res/web/site:0.15.1' = {
  name: 'app-${serverName}'
  params: {
    kind: 'functionapp,linux'
    name: appName
  }
}

module entra 'entra.bicep' = {
  name: 'entra-${serverName}'
  params: {
    uniqueName: '${appName}-app'
  }
}
