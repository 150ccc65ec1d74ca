# Sourced by the launchers: Debian's Python with python3-torch, and OpenBLAS when it is installed.
# python3-torch calls the BLAS that Debian's alternatives name, the reference BLAS unless an
# optimised one is installed and selected; its products are 10-20x slower than OpenBLAS's
# (stories260K's 2880 x 64 x 172 product: 1.6 against 20-35 GMAC per CPU-second here). So
# when libopenblas0 is installed (`apt-get install libopenblas0-openmp`) the trainer loads it
# for its own process only, whatever the system-wide choice is.
for d in /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/x86_64-linux-gnu/openblas-pthread \
         /usr/lib/x86_64-linux-gnu/openblas-serial /usr/lib/aarch64-linux-gnu/openblas-openmp \
         /usr/lib/aarch64-linux-gnu/openblas-pthread /usr/lib/aarch64-linux-gnu/openblas-serial; do
  if [ -e "$d/libblas.so.3" ]; then
    LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export LD_LIBRARY_PATH
    break
  fi
done
