package opshub

import rego.v1

# METADATA
# title: Built-in org roles never edit or administer Ops Hub folders
# description: >-
#   Viewer is every member of the Grafana org and Editor nearly every one; Edit or Admin for
#   either lets anyone change the alert rules and dashboards in the folder. Folder
#   permissions come from the access model's grafana levels, for teams only.
# custom:
#   id: OPS-OBS-022
#   severity: critical
#   remediation: Remove the role grant; give Edit or Admin to the team of a role whose model level allows it.
deny_builtin_role_editing_folders contains msg if {
	some grant in folder_grants(input)
	object.get(grant, "role", "") in {"Viewer", "Editor"}
	object.get(grant, "permission", "") in {"Edit", "Admin"}
	msg := concat("", [label(input), " gives ", grant.permission, " to the built-in ", grant.role, " role"])
}

folder_grants(r) := prop(r, "permissions", []) if r.__type == "grafana:oss/folderPermission:FolderPermission"

folder_grants(r) := [r.__properties] if r.__type == "grafana:oss/folderPermissionItem:FolderPermissionItem"
