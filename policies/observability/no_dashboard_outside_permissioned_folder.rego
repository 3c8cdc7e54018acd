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
	msg := concat("", [label(dashboard), " is not in a folder with explicit permissions"])
}

in_permissioned_folder(dashboard) if {
	some folder in targets_of(dashboard, "folder", "grafana:oss/folder:Folder")
	folder.__urn in permissioned_folders
}

# Folders a FolderPermission (with at least one entry) or a FolderPermissionItem covers.
permissioned_folders contains urn if {
	some permission in resources_of("grafana:oss/folderPermission:FolderPermission")
	count(prop(permission, "permissions", [])) > 0
	some urn in referenced_urns(permission, "folderUid")
}

permissioned_folders contains urn if {
	some item in resources_of("grafana:oss/folderPermissionItem:FolderPermissionItem")
	some urn in referenced_urns(item, "folderUid")
}
