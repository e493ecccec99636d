mark begin
insmod /mods/platzero.ko; echo "insmod: $?"
mark end
