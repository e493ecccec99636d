for m in ws_lib ws_dev ws_net; do insmod /mods/$m.ko; echo "insmod $m rc=$?"; rmmod $m; done
insmod /mods/x_tables.ko
insmod /mods/ws_xt.ko; echo "insmod ws_xt rc=$?"; rmmod ws_xt
insmod /mods/ws_crypto.ko; echo "insmod ws_crypto rc=$?"; rmmod ws_crypto
