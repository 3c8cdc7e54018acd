package opshub

import rego.v1

# METADATA
# title: The tenant keeps admin-tool sessions and no open doors
# description: >-
#   A Tenant (declared, or added by hand) must keep sessions within the configured maxima
#   (Auth0's defaults are 72 h idle and 168 h absolute), keep dynamic client registration
#   off, allow logout only to the /ops application's URLs, and set no default audience that
#   would hand ops-API tokens to every application. (Whether a stack declares the Tenant is
#   its opshub:auth0TenantOwned setting; the pack serves stacks of both kinds.)
# custom:
#   id: OPS-AUTH-017
#   severity: high
#   remediation: >-
#     Declare auth0.Tenant from the stack config (OpsAuth does when opshub:auth0TenantOwned is
#     true) with the session lifetimes, flags, logout URLs and empty default audience it derives.
stack_deny_weak_tenant_settings contains f.msg if some f in weak_tenant_settings

tenants := resources_of("auth0:index/tenant:Tenant")

weak_tenant_settings contains finding(tenant, msg) if {
	some tenant in tenants
	some [key, limit, fallback] in session_limits
	hours := prop(tenant, key, fallback)
	hours > limit
	msg := concat("", [label(tenant), " keeps sessions ", format_int(hours, 10), " h (", key, "); at most ", format_int(limit, 10), " h"])
}

weak_tenant_settings contains finding(tenant, msg) if {
	some tenant in tenants
	prop(tenant, ["flags", "enableDynamicClientRegistration"], false) == true
	msg := concat("", [label(tenant), " lets anyone register applications (dynamic client registration)"])
}

weak_tenant_settings contains finding(tenant, msg) if {
	some tenant in tenants
	audience := prop(tenant, "defaultAudience", "")
	audience != ""
	msg := concat("", [label(tenant), " sets a default audience ('", audience, "'), so every application gets its tokens"])
}

weak_tenant_settings contains finding(tenant, msg) if {
	some tenant in tenants
	some url in prop(tenant, "allowedLogoutUrls", [])
	not url in ops_app_logout_urls
	msg := concat("", [label(tenant), " allows logout to '", url, "', which is not a URL of the /ops application"])
}

# [property, limit, Auth0's default] of the two session lifetimes.
session_limits := {
	["idleSessionLifetime", model.auth0.session_max_idle_hours, auth0_default_idle_session_hours],
	["sessionLifetime", model.auth0.session_max_absolute_hours, auth0_default_session_hours],
}

ops_app_logout_urls := {url |
	some client in auth0_clients
	prop(client, "name", "") == model.auth0.application
	some url in prop(client, "allowedLogoutUrls", [])
}
