"""The official files: finding them (flags, environment, the Hugging Face cache, the
official apps' folder), checking them for damage, and downloading them."""
