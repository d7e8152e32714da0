extension microsoftGraphV1

param uniqueName string

resource registration 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: 'MCP server'
}

resource credential 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {
  name: '${registration.uniqueName}/mcp-function-managed-identity'
  audiences: ['api://AzureADTokenExchange']
  issuer: 'https://login.microsoftonline.com/tenant/v2.0'
  subject: 'principal'
}
