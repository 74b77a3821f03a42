package config

// The ACL directives of Redis 7.0 ("user" lines are collected in
// Config.Users, since they repeat).
func init() {
	directives = append(directives,
		Directive{Name: "aclfile", Usage: "file of ACL users (ACL LOAD / ACL SAVE)", Default: "", Immutable: true},
		Directive{Name: "acllog-max-len", Usage: "entries kept in ACL LOG", Default: "128", Kind: Int, Min: 0, Max: 1<<31 - 1},
		Directive{Name: "acl-pubsub-default", Usage: "channels of new users: resetchannels or allchannels", Default: "resetchannels", Kind: Enum, Enum: []string{"resetchannels", "allchannels"}},
	)
}
