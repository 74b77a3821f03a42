package node

func registerBitmaps(t table) {}
