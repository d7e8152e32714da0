package auth

// Environment variables read by [ConfigFromEnv], besides those of azenv
// that package obo reads too; the package documentation describes each
// one.
const (
	envMCPAuth                    = "MCP_AUTH"
	envMCPAuthTenantIDs           = "MCP_AUTH_TENANT_IDS"
	envMCPAuthAudiences           = "MCP_AUTH_AUDIENCES"
	envMCPAuthScopes              = "MCP_AUTH_SCOPES"
	envMCPAuthRoles               = "MCP_AUTH_ROLES"
	envMCPAuthAllowedApplications = "MCP_AUTH_ALLOWED_APPLICATIONS"
	envMCPPublicURL               = "MCP_PUBLIC_URL"
	envMCPRequireEasyAuthEnv      = "MCP_REQUIRE_EASYAUTH_ENV"
	envWebsiteAuthEnabled         = "WEBSITE_AUTH_ENABLED"
	envWebsiteAuthPRMScopes       = "WEBSITE_AUTH_PRM_DEFAULT_WITH_SCOPES"
)
