/* placeholder until website/build.sh runs */
