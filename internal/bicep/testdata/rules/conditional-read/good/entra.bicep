param previous string = ''

output applicationId string = 'app-${previous}'
output identifierUri string = 'api://app'
