DROP TABLE processed_orders;
