"""Jobs on a worker pool: ``perfci submit`` queues a ``perfci run|compare|bisect`` on a broker
(Celery, RabbitMQ or Redis); ``perfci worker`` runs them one at a time, one worker per GPU, and
records each job's state in the store the server reads (``perfci.store.jobs``). Without a broker
every command runs in-process, as it always does."""
