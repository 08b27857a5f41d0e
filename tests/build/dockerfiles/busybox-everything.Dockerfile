ARG BASE=busybox:latest
FROM ${BASE} AS files
RUN <<EOF
set -e
mkdir -p /out
echo "built at $(date)" > /out/stamp
EOF
COPY <<-EOT /out/config.ini
	[main]
	name=${NAME:-default}
	EOT
ADD --chown=1000:1000 assets.tar.gz /out/assets/

FROM ${BASE}
MAINTAINER someone@example.com
ARG BASE
ARG USER_ID=1000
ENV HOME=/home/app APP_USER=app
ENV LEGACY_FORM value with spaces
WORKDIR $HOME
COPY --from=files /out/ ./
COPY ["file with spaces.txt", "./"]
VOLUME ["/data", "/logs"]
VOLUME /cache
SHELL ["/bin/sh", "-eu", "-c"]
RUN echo "uid ${USER_ID}" \
 # comments inside a continuation are dropped
 && rm -f ./stamp
ONBUILD COPY . /app/src
ONBUILD RUN make -C /app/src
HEALTHCHECK NONE
USER ${USER_ID}:${USER_ID}
CMD exec /bin/sh
