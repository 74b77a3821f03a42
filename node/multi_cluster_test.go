package node

// The CLUSTER subcommands and READONLY/READWRITE in TestEveryCommandInMulti,
// kept apart from multiCases so its alignment stays put.
func init() {
	for name, cases := range map[string][][]string{
		"cluster|myshardid":             {{"CLUSTER", "MYSHARDID"}},
		"cluster|slots":                 {{"CLUSTER", "SLOTS"}},
		"cluster|shards":                {{"CLUSTER", "SHARDS"}},
		"cluster|replicas":              {{"CLUSTER", "REPLICAS", "x"}},
		"cluster|slaves":                {{"CLUSTER", "SLAVES", "x"}},
		"cluster|count-failure-reports": {{"CLUSTER", "COUNT-FAILURE-REPORTS", "x"}},
		"cluster|links":                 {{"CLUSTER", "LINKS"}},
		"cluster|keyslot":               {{"CLUSTER", "KEYSLOT", "k"}},
		"cluster|countkeysinslot":       {{"CLUSTER", "COUNTKEYSINSLOT", "1"}},
		"cluster|getkeysinslot":         {{"CLUSTER", "GETKEYSINSLOT", "1", "1"}},
		"cluster|reset":                 {{"CLUSTER", "RESET"}},
		"cluster|addslots":              {{"CLUSTER", "ADDSLOTS", "1"}},
		"cluster|addslotsrange":         {{"CLUSTER", "ADDSLOTSRANGE", "1", "2"}},
		"cluster|delslots":              {{"CLUSTER", "DELSLOTS", "1"}},
		"cluster|delslotsrange":         {{"CLUSTER", "DELSLOTSRANGE", "1", "2"}},
		"cluster|setslot":               {{"CLUSTER", "SETSLOT", "1", "STABLE"}},
		"cluster|meet":                  {{"CLUSTER", "MEET", "127.0.0.1", "1"}},
		"cluster|forget":                {{"CLUSTER", "FORGET", "x"}},
		"cluster|replicate":             {{"CLUSTER", "REPLICATE", "x"}},
		"readonly":                      {{"READONLY"}},
		"readwrite":                     {{"READWRITE"}},
	} {
		multiCases[name] = cases
	}
	// CLUSTER MYSHARDID is Redis 7.2's: 7.0 fails to queue it.
	multiRedisLacks["CLUSTER MYSHARDID"] = true
}
