# pyregistry with the reference image's paths: config /etc/docker/registry/config.yml,
# data /var/lib/registry, port 5000, running as a non-root user.
FROM python:3.11-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY pyregistry ./pyregistry
COPY storage_drivers ./storage_drivers
COPY conformance ./conformance
# the pyregistry-oci distribution, from these sources (the command is `pyregistry`), with
# the ACME client, as distribution's image serves http.tls.letsencrypt
RUN pip install --no-cache-dir '.[letsencrypt]' && rm -rf /src

COPY packaging/config.yml /etc/docker/registry/config.yml
RUN useradd --system --uid 1000 --home-dir /var/lib/registry registry \
    && mkdir -p /var/lib/registry \
    && chown registry:registry /var/lib/registry

USER registry
VOLUME ["/var/lib/registry"]
EXPOSE 5000
ENTRYPOINT ["pyregistry"]
CMD ["serve", "/etc/docker/registry/config.yml"]
