package auth

import (
	_ "github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	_ "github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/hashicorp/golang-lru/v2"
	_ "github.com/modelcontextprotocol/go-sdk/auth"
	_ "golang.org/x/sync/singleflight"
)
