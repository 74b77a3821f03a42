package node

func registerZSets(t table) {}
