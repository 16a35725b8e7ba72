module secrets-store-csi-ts/pause

go 1.24
