set(RMAFLOW_NET_SOURCES
  engine/net/http_message.cpp
  engine/net/http_session.cpp
  engine/net/http_server.cpp
  engine/net/client_exchange.cpp
  engine/net/http_client.cpp
)
