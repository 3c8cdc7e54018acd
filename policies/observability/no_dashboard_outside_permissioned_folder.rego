package opshub

import rego.v1

# METADATA
# title: Dashboards sit in folders with explicit permissions
# description: >-
#   A dashboard in General, or in a folder without declared permissions, inherits
#   Grafana's defaults (every Viewer sees it); it must sit in a folder of this stack that
#   has a FolderPermission derived from the access model.
# custom:
#   id: OPS-OBS-007
#   severity: medium
#   remediation: Set the dashboard's folder to a declared Folder and give that Folder a FolderPermission.
stack_deny_dashboard_outside_permissioned_folder contains f.msg if some f in dashboard_outside_permissioned_folder

dashboard_outside_permissioned_folder contains finding(dashboard, msg) if {
	some dashboard in resources_of("grafana:oss/dashboard:Dashboard")
	not in_permissioned_folder(dashboard)
	msg := sprintf("dashboard %s is not in a folder with explicit permissions", [label(dashboard)])
}

in_permissioned_folder(dashboard) if {
	some folder in resources_of("grafana:oss/folder:Folder")
	refers_to(dashboard, "folder", folder)
	has_explicit_permissions(folder)
}

has_explicit_permissions(folder) if {
	some permission in resources_of("grafana:oss/folderPermission:FolderPermission")
	refers_to(permission, "folderUid", folder)
	count(prop(permission, "permissions", [])) > 0
}

has_explicit_permissions(folder) if {
	some item in resources_of("grafana:oss/folderPermissionItem:FolderPermissionItem")
	refers_to(item, "folderUid", folder)
}
