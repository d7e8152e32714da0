// The same type at another API version than main.bicep's.
resource storage 'microsoft.storage/storageAccounts@2022-09-01' existing = { // want: existing-api-version
  name: 'stmcp'
}

output id string = storage.id
