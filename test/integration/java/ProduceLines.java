// Test helper: writes stdin's lines to a topic with the Apache Kafka Java client itself, one
// producer per codec named on the command line, so a topic holds batches exactly as Java
// services (and Kafka Streams, Flink) write them. Run with the broker's jars on the class path:
//   java -cp '.cache/kafka/<version>/libs/*' ProduceLines.java BROKER TOPIC CODEC[,CODEC...]
// The lines are split into one consecutive chunk per codec.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class ProduceLines {
  public static void main(String[] args) throws Exception {
    List<String> lines = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) lines.add(line);
    }
    String[] codecs = args[2].split(",");
    int chunk = (lines.size() + codecs.length - 1) / codecs.length;
    for (int c = 0; c < codecs.length; c++) {
      Properties props = new Properties();
      props.put("bootstrap.servers", args[0]);
      props.put("compression.type", codecs[c]);
      props.put("acks", "all");
      props.put("linger.ms", "20");
      props.put("key.serializer", ByteArraySerializer.class.getName());
      props.put("value.serializer", ByteArraySerializer.class.getName());
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (int i = c * chunk; i < Math.min(lines.size(), (c + 1) * chunk); i++) {
          sent.add(producer.send(new ProducerRecord<>(args[1], lines.get(i).getBytes(StandardCharsets.UTF_8))));
        }
        producer.flush();
        for (Future<RecordMetadata> one : sent) one.get();
      }
    }
  }
}
