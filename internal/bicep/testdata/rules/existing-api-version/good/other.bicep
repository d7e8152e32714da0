resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: 'stmcp'
}

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: 'appi-mcp'
}

output id string = '${storage.id}${insights.id}'
